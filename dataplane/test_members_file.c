/* Unit tests of the members file loader (members_file.c). */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "members.h"
#include "members_file.h"
#include "wire.h"

static uint8_t pks[8][32];
static char hexk[8][65];

static void make_keys(void)
{
	for (int i = 0; i < 8; i++) {
		uint8_t seed[32] = {0}, sk[64];
		seed[0] = (uint8_t)(i + 1);
		crypto_sign_seed_keypair(pks[i], sk, seed);
		txg_hex(pks[i], 32, hexk[i]);
	}
}

static char err[512];
static struct txg_member_entry *ents;
static size_t n;

static int parse_str(const char *text)
{
	free(ents);
	ents = NULL;
	err[0] = '\0';
	return txg_members_parse(text, strlen(text), "m.txt", &ents, &n, err, sizeof(err));
}

/* Expect failure with a message starting with prefix and containing sub. */
static void expect_err(const char *text, const char *prefix, const char *sub)
{
	CU_ASSERT_EQUAL(parse_str(text), -1);
	CU_ASSERT_PTR_NULL(ents);
	CU_ASSERT_EQUAL(n, 0);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, sub)) {
		printf("\n  got error '%s', want prefix '%s' and '%s'\n", err, prefix, sub);
		CU_FAIL("error message");
	}
}

static void test_good(void)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "# consortium members\n"
		 "\n"
		 "alice %s\n"
		 "  bob.example:7400\t%s   # trailing comment\r\n"
		 "\t\n"
		 "# carol is disabled\n"
		 "carol@x-y_z %s\r\n"
		 "D %s",
		 hexk[0], hexk[1], hexk[2], hexk[3]);
	CU_ASSERT_EQUAL_FATAL(parse_str(text), 0);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_STRING_EQUAL(ents[0].name, "alice");
	CU_ASSERT_EQUAL(ents[0].line, 3);
	CU_ASSERT(memcmp(ents[0].pk, pks[0], 32) == 0);
	CU_ASSERT_STRING_EQUAL(ents[1].name, "bob.example:7400");
	CU_ASSERT_EQUAL(ents[1].line, 4);
	CU_ASSERT(memcmp(ents[1].pk, pks[1], 32) == 0);
	CU_ASSERT_STRING_EQUAL(ents[2].name, "carol@x-y_z");
	CU_ASSERT_EQUAL(ents[2].line, 7);
	CU_ASSERT_STRING_EQUAL(ents[3].name, "D");
	CU_ASSERT_EQUAL(ents[3].line, 8);
	CU_ASSERT(memcmp(ents[3].pk, pks[3], 32) == 0);

	/* Upper-case hex and a 63-character name. */
	char up[65], name[64];
	for (int i = 0; i < 64; i++)
		up[i] = (char)((hexk[4][i] >= 'a' && hexk[4][i] <= 'f') ? hexk[4][i] - 32 : hexk[4][i]);
	up[64] = '\0';
	memset(name, 'n', 63);
	name[63] = '\0';
	snprintf(text, sizeof(text), "%s %s\n", name, up);
	CU_ASSERT_EQUAL_FATAL(parse_str(text), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(ents[0].name, name);
	CU_ASSERT(memcmp(ents[0].pk, pks[4], 32) == 0);
}

static void test_syntax(void)
{
	char text[1024];
	expect_err("alice\n", "m.txt:1: ", "syntax error");
	snprintf(text, sizeof(text), "# c\nalice %s extra\n", hexk[0]);
	expect_err(text, "m.txt:2: ", "syntax error");
	snprintf(text, sizeof(text), "a %s\nbob! %s\n", hexk[0], hexk[1]);
	expect_err(text, "m.txt:2: ", "bad member name");
	char name[65];
	memset(name, 'x', 64);
	name[64] = '\0';
	snprintf(text, sizeof(text), "%s %s\n", name, hexk[0]);
	expect_err(text, "m.txt:1: ", "longer than 63");
	/* A CR inside the line is not white space. */
	snprintf(text, sizeof(text), "alice\r%s\n", hexk[0]);
	expect_err(text, "m.txt:1: ", "syntax error");
}

static void test_bad_hex(void)
{
	char text[1024], k[66];
	snprintf(text, sizeof(text), "alice %.62s\n", hexk[0]);
	expect_err(text, "m.txt:1: ", "bad hex key");
	CU_ASSERT(strstr(err, "62 characters") != NULL);
	snprintf(text, sizeof(text), "alice %s0\n", hexk[0]);
	expect_err(text, "m.txt:1: ", "bad hex key");
	memcpy(k, hexk[0], 65);
	k[10] = 'g';
	snprintf(text, sizeof(text), "\n\n\nalice %s\n", k);
	expect_err(text, "m.txt:4: ", "bad hex key");
	CU_ASSERT(strstr(err, "character 11") != NULL);
}

static void test_invalid_key(void)
{
	char text[1024];
	char zero[65];
	memset(zero, '0', 64);
	zero[64] = '\0';
	snprintf(text, sizeof(text), "alice %s\nbob %s\n", hexk[0], zero);
	expect_err(text, "m.txt:2: ", "invalid key");
	/* Not on the curve / non-canonical encodings. */
	int rejected = 0;
	for (int t = 0; t < 32; t++) {
		uint8_t pk[32];
		char hx[65];
		memset(pk, 0, sizeof(pk));
		pk[0] = (uint8_t)(t * 7 + 2);
		pk[31] = (uint8_t)(t * 3);
		txg_hex(pk, 32, hx);
		snprintf(text, sizeof(text), "m %s\n", hx);
		int rc = parse_str(text);
		CU_ASSERT_EQUAL(rc == 0, crypto_core_ed25519_is_valid_point(pk) != 0);
		if (rc)
			rejected++;
	}
	CU_ASSERT(rejected > 0);
}

static void test_duplicates(void)
{
	char text[2048];
	snprintf(text, sizeof(text), "a %s\nb %s\n# x\n\nc %s\nb %s\n", hexk[0], hexk[1], hexk[2], hexk[3]);
	expect_err(text, "m.txt:6: ", "duplicate name 'b'");
	CU_ASSERT(strstr(err, "first on line 2") != NULL);
	snprintf(text, sizeof(text), "a %s\nb %s\nc %s\nd %s\n", hexk[0], hexk[1], hexk[2], hexk[1]);
	expect_err(text, "m.txt:4: ", "duplicate key");
	CU_ASSERT(strstr(err, "first on line 2") != NULL);
	/* The earliest repeat wins: key repeated on line 3, name on line 4. */
	snprintf(text, sizeof(text), "a %s\nb %s\nc %s\na %s\n", hexk[0], hexk[1], hexk[0], hexk[5]);
	expect_err(text, "m.txt:3: ", "duplicate key");
	CU_ASSERT(strstr(err, "first on line 1") != NULL);
	/* Three with one name: the second one is reported. */
	snprintf(text, sizeof(text), "z %s\nz %s\nz %s\n", hexk[0], hexk[1], hexk[2]);
	expect_err(text, "m.txt:2: ", "duplicate name 'z' (first on line 1)");
}

static void test_empty_nul_long(void)
{
	expect_err("", "m.txt: ", "no members");
	expect_err("# only a comment\n\n   \n", "m.txt: ", "no members");
	char text[4096];
	int k = snprintf(text, sizeof(text), "a %s\nb ", hexk[0]);
	memcpy(text + k, hexk[1], 64);
	text[k + 10] = '\0';
	free(ents);
	ents = NULL;
	CU_ASSERT_EQUAL(txg_members_parse(text, (size_t)k + 64, "m.txt", &ents, &n, err, sizeof(err)), -1);
	CU_ASSERT(strncmp(err, "m.txt:2: ", 9) == 0 && strstr(err, "NUL") != NULL);
	/* A long comment line is still too long. */
	memset(text, '#', 2000);
	text[2000] = '\0';
	expect_err(text, "m.txt:1: ", "line too long");
	/* Exactly the limit is fine (it is a comment). */
	char t2[2048];
	memset(t2, ' ', TXG_MEMBERS_LINE_MAX);
	t2[0] = '#';
	snprintf(t2 + TXG_MEMBERS_LINE_MAX, sizeof(t2) - TXG_MEMBERS_LINE_MAX, "\r\nq %s", hexk[0]);
	CU_ASSERT_EQUAL(parse_str(t2), 0);
	CU_ASSERT_EQUAL(n, 1);
}

static void test_file(void)
{
	char dir[] = "/tmp/txg_members_XXXXXX";
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	char path[256];
	snprintf(path, sizeof(path), "%s/members.txt", dir);
	FILE *f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fprintf(f, "# test\nalice %s\nbob %s\n", hexk[0], hexk[1]);
	fclose(f);
	free(ents);
	ents = NULL;
	CU_ASSERT_EQUAL(txg_members_file_load(path, &ents, &n, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(n, 2);
	if (n == 2)
		CU_ASSERT_STRING_EQUAL(ents[1].name, "bob");

	/* Errors name the path and the line. */
	f = fopen(path, "w");
	fprintf(f, "alice %s\nalice %s\n", hexk[0], hexk[1]);
	fclose(f);
	free(ents);
	ents = NULL;
	CU_ASSERT_EQUAL(txg_members_file_load(path, &ents, &n, err, sizeof(err)), -1);
	char want[300];
	snprintf(want, sizeof(want), "%s:2: duplicate name 'alice' (first on line 1)", path);
	CU_ASSERT_STRING_EQUAL(err, want);

	/* Missing file and a directory. */
	char missing[300];
	snprintf(missing, sizeof(missing), "%s/nope.txt", dir);
	CU_ASSERT_EQUAL(txg_members_file_load(missing, &ents, &n, err, sizeof(err)), -1);
	CU_ASSERT(strncmp(err, missing, strlen(missing)) == 0);
	CU_ASSERT(strstr(err, "No such file or directory") != NULL);
	CU_ASSERT_EQUAL(txg_members_file_load(dir, &ents, &n, err, sizeof(err)), -1);
	CU_ASSERT(strstr(err, "Is a directory") != NULL);

	unlink(path);
	rmdir(dir);
}

static void test_small_err_buffer(void)
{
	char small[8];
	free(ents);
	ents = NULL;
	CU_ASSERT_EQUAL(txg_members_parse("x", 1, "a-long-file-name", &ents, &n, small, sizeof(small)), -1);
	CU_ASSERT_EQUAL(strlen(small), 7);
	CU_ASSERT_EQUAL(txg_members_parse("x", 1, "f", &ents, &n, NULL, 0), -1);
}

/* Optional "rate burst" fields: parsed, checked, saved and loaded back;
 * files without them stay valid. */
static void test_quota_fields(void)
{
	char text[2048];
	snprintf(text, sizeof(text), "alice %s 100 20\nbob %s\ncarol %s 0 0 # unlimited, own\n", hexk[0], hexk[1],
		 hexk[2]);
	CU_ASSERT_EQUAL_FATAL(parse_str(text), 0);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT(ents[0].has_quota && ents[0].rate == 100 && ents[0].burst == 20);
	CU_ASSERT(!ents[1].has_quota && ents[1].rate == 0 && ents[1].burst == 0);
	CU_ASSERT(ents[2].has_quota && ents[2].rate == 0);
	snprintf(text, sizeof(text), "alice %s 100\n", hexk[0]);
	expect_err(text, "m.txt:1: ", "syntax error");
	snprintf(text, sizeof(text), "alice %s 100 20 3\n", hexk[0]);
	expect_err(text, "m.txt:1: ", "syntax error");
	snprintf(text, sizeof(text), "alice %s 1x 20\n", hexk[0]);
	expect_err(text, "m.txt:1: ", "bad quota rate");
	snprintf(text, sizeof(text), "alice %s 10 -1\n", hexk[0]);
	expect_err(text, "m.txt:1: ", "bad quota burst");
	snprintf(text, sizeof(text), "alice %s 10 0\n", hexk[0]);
	expect_err(text, "m.txt:1: ", "must be 1..");
	snprintf(text, sizeof(text), "alice %s 10000001 1\n", hexk[0]);
	expect_err(text, "m.txt:1: ", "quota rate");
	snprintf(text, sizeof(text), "alice %s 99999999999 1\n", hexk[0]);
	expect_err(text, "m.txt:1: ", "too large");

	char dir[] = "/tmp/txg_membersq_XXXXXX";
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	char path[256];
	snprintf(path, sizeof(path), "%s/members.txt", dir);
	struct txg_member_entry e[2] = {0};
	snprintf(e[0].name, sizeof(e[0].name), "alice");
	memcpy(e[0].pk, pks[0], 32);
	e[0].has_quota = 1;
	e[0].rate = 7;
	e[0].burst = 3;
	snprintf(e[1].name, sizeof(e[1].name), "bob");
	memcpy(e[1].pk, pks[1], 32);
	CU_ASSERT_EQUAL_FATAL(txg_members_file_save(path, e, 2, err, sizeof(err)), 0);
	free(ents);
	ents = NULL;
	CU_ASSERT_EQUAL_FATAL(txg_members_file_load(path, &ents, &n, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT(ents[0].has_quota && ents[0].rate == 7 && ents[0].burst == 3);
	CU_ASSERT(!ents[1].has_quota);
	unlink(path);
	rmdir(dir);
}

/* The per-worker bucket (members.h): rate R and burst B over N workers:
 * R/N per second and max(1, B/N) per worker, integer, exact. */
static void test_quota_bucket(void)
{
	struct txg_quota_bucket b;
	const uint64_t hz = 1000; /* "TSC" in ms */
	/* R=1, B=5, N=2: 2 tokens, then one every 2 s. */
	txg_quota_bucket_init(&b, txg_quota_word(1, 5), 2, hz, 0);
	int got = 0;
	for (int i = 0; i < 10; i++)
		if (b.credit >= b.cost) {
			b.credit -= b.cost;
			got++;
		}
	CU_ASSERT_EQUAL(got, 2);
	txg_quota_refill(&b, 1999);
	CU_ASSERT(b.credit < b.cost);
	txg_quota_refill(&b, 2000);
	CU_ASSERT(b.credit >= b.cost);
	b.credit -= b.cost;
	/* A time before the last refill adds nothing; a long gap fills it. */
	txg_quota_refill(&b, 1000);
	CU_ASSERT(b.credit < b.cost);
	txg_quota_refill(&b, UINT64_MAX / 2);
	CU_ASSERT_EQUAL(b.credit, b.cap);
	CU_ASSERT_EQUAL(b.cap, 2 * b.cost);
	/* Burst below N: still 1 per worker. */
	txg_quota_bucket_init(&b, txg_quota_word(10, 1), 4, hz, 0);
	CU_ASSERT_EQUAL(b.cap, b.cost);
	/* Big values within the limits do not overflow: R=1e7, B=1e6, N=16, 4 GHz. */
	txg_quota_bucket_init(&b, txg_quota_word(TXG_QUOTA_RATE_MAX, TXG_QUOTA_BURST_MAX), 16, 4000000000ull, 0);
	b.credit = 0;
	txg_quota_refill(&b, b.full_after - 1);
	CU_ASSERT(b.credit <= b.cap);
	CU_ASSERT(b.credit >= b.cap - 2 * (uint64_t)TXG_QUOTA_RATE_MAX);
	/* 50 ms at 4 GHz over 16 workers: R/N * 0.05 = 31250 tokens (of 62500). */
	b.credit = 0;
	b.last = 0;
	txg_quota_refill(&b, 200000000ull);
	CU_ASSERT_EQUAL(b.credit / b.cost, 31250);
	CU_ASSERT_EQUAL(b.credit % b.cost, 0);
	CU_ASSERT_EQUAL(b.cap / b.cost, 62500);
	/* Unlimited is word 0, whatever the burst. */
	CU_ASSERT_EQUAL(txg_quota_word(0, 9), 0);
	char e2[128];
	CU_ASSERT_EQUAL(txg_quota_check(0, 0, e2, sizeof(e2)), 0);
	CU_ASSERT_EQUAL(txg_quota_check(1, 0, e2, sizeof(e2)), -1);
	CU_ASSERT_EQUAL(txg_quota_check(1, 1, e2, sizeof(e2)), 0);
}

int main(void)
{
	if (sodium_init() < 0)
		return 2;
	make_keys();
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("members_file", NULL, NULL);
	CU_add_test(s, "good", test_good);
	CU_add_test(s, "syntax", test_syntax);
	CU_add_test(s, "bad_hex", test_bad_hex);
	CU_add_test(s, "invalid_key", test_invalid_key);
	CU_add_test(s, "duplicates", test_duplicates);
	CU_add_test(s, "empty_nul_long", test_empty_nul_long);
	CU_add_test(s, "file", test_file);
	CU_add_test(s, "small_err_buffer", test_small_err_buffer);
	CU_add_test(s, "quota_fields", test_quota_fields);
	CU_add_test(s, "quota_bucket", test_quota_bucket);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	free(ents);
	return fails ? 1 : 0;
}
