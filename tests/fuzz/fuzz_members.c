/* libFuzzer target: txg_members_parse on arbitrary text. Checks: no
 * out-of-bounds access or leak (ASan), no UB (UBSan), and an accepted file
 * yields well-formed, distinct entries. Seeds: see README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "members_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct txg_member_entry *e = NULL;
	size_t n = 99;
	char err[256];
	int rc = txg_members_parse((const char *)data, size, "fuzz.txt", &e, &n, err, sizeof(err));
	if (rc == 0) {
		if (!e || n == 0)
			__builtin_trap();
		for (size_t i = 0; i < n; i++) {
			size_t l = strnlen(e[i].name, sizeof(e[i].name));
			if (l == 0 || l > TXG_MEMBER_NAME_MAX || e[i].line == 0)
				__builtin_trap();
			for (size_t j = 0; j < i && n < 64; j++)
				if (!strcmp(e[i].name, e[j].name) || !memcmp(e[i].pk, e[j].pk, 32))
					__builtin_trap();
		}
	} else {
		if (rc != -1 || e != NULL || n != 0 || strncmp(err, "fuzz.txt", 8) != 0)
			__builtin_trap();
	}
	free(e);
	return 0;
}
