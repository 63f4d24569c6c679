/* Error messages into a caller's buffer: the convention of every loader
 * and store function (char *err, size_t errlen). */
#ifndef TXG_ERRBUF_H
#define TXG_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* printf into err[0..errlen); nothing if err is NULL or errlen is 0. */
__attribute__((format(printf, 3, 4))) static inline void txg_errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#endif
