/*
 * Region allocator: chunks of at least 4 KiB, bump allocation, freed as a
 * whole. One arena per stanza in flight; arena_reset keeps the first chunk
 * so that the steady state allocates nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "util.h"

#define ARENA_CHUNK	4096
#define ARENA_ALIGN	16

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 size;	/* usable bytes after the header */
	size_t			 used;
	_Alignas(ARENA_ALIGN) char data[];
};

void
arena_init(struct arena *a)
{
	a->head = NULL;
	a->used = 0;
}

void
arena_free(struct arena *a)
{
	struct arena_chunk	*c, *n;

	for (c = a->head; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}

void
arena_reset(struct arena *a)
{
	struct arena_chunk	*c, *n, *keep = NULL;

	/* keep the oldest (last) chunk if it has the default size */
	for (c = a->head; c != NULL; c = n) {
		n = c->next;
		if (n == NULL && c->size == ARENA_CHUNK) {
			keep = c;
			break;
		}
		free(c);
	}
	if (keep != NULL)
		keep->used = 0;
	a->head = keep;
	a->used = 0;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk	*c = a->head;
	size_t			 size;
	void			*p;

	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (n == 0)
		n = ARENA_ALIGN;
	if (c == NULL || c->size - c->used < n) {
		size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += n;
	a->used += n;
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char	*p;

	p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list	 ap;
	char	*p;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
