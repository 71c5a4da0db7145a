/*
 * The shared harness of the web fuzz targets (fuzz_web.c).
 */
#ifndef PARLEY_FUZZ_WEB_H
#define PARLEY_FUZZ_WEB_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_WEB_CONNS	8

/*
 * Each request on a connection of its own, in turn; then time passes and
 * all close. post_path: the requests are bodies POSTed there, "%S" in
 * them the sid of the last BOSH session created; NULL: raw bytes.
 */
void	fuzz_web_conns(const char *const *reqs, const size_t *lens, size_t n,
	    const char *post_path);
/* the input cut at "\n==\n", at most FUZZ_WEB_CONNS parts; their count */
size_t	fuzz_web_split(const uint8_t *, size_t, const char **reqs,
	    size_t *lens);
/* http_path_decode and its oracle */
void	fuzz_web_path(const char *, size_t);

#endif
