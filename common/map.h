/*
 * Hash map from byte-string keys to pointers (open addressing, grows at
 * 3/4 load). Keys are copied. Used for the router's session tables:
 * full JID -> session, bare JID -> resources, (link, sid) -> session.
 */
#ifndef PARLEY_MAP_H
#define PARLEY_MAP_H

#include <stddef.h>
#include <stdint.h>

struct map;

struct map	*map_new(void);				/* returns new */
/* frees the map; free_val (may be NULL) is called on every value */
void		 map_free(struct map *, void (*free_val)(void *));
void		*map_getn(const struct map *, const void *key, size_t len);
/* inserts or replaces; returns the previous value or NULL */
void		*map_putn(struct map *, const void *key, size_t len, void *val);
/* removes; returns the removed value or NULL */
void		*map_deln(struct map *, const void *key, size_t len);
size_t		 map_count(const struct map *);
/*
 * Calls fn on every entry; fn returning non-zero stops the walk. fn must
 * not insert or delete.
 */
void		 map_foreach(const struct map *,
		    int (*fn)(const void *key, size_t len, void *val, void *arg),
		    void *arg);

/* NUL-terminated string keys */
void	*map_get(const struct map *, const char *key);
void	*map_put(struct map *, const char *key, void *val);
void	*map_del(struct map *, const char *key);
/* u64 keys (host byte order) */
void	*map_get64(const struct map *, uint64_t key);
void	*map_put64(struct map *, uint64_t key, void *val);
void	*map_del64(struct map *, uint64_t key);

#endif
