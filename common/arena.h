/*
 * Region allocator for things that live as long as one stanza or one
 * request: many small allocations, freed at once by arena_free/arena_reset.
 */
#ifndef PARLEY_ARENA_H
#define PARLEY_ARENA_H

#include <stddef.h>

struct arena_chunk;
struct arena {
	struct arena_chunk	*head;
	size_t			 used;	/* bytes handed out, for limits */
};

void	 arena_init(struct arena *);
void	 arena_reset(struct arena *);	/* frees all but the first chunk */
void	 arena_free(struct arena *);	/* frees everything */
void	*arena_alloc(struct arena *, size_t);	/* 16-byte aligned, fatal on OOM */
char	*arena_strdup(struct arena *, const char *);
char	*arena_strndup(struct arena *, const char *, size_t);
char	*arena_printf(struct arena *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
