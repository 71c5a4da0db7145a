/*
 * Data forms (XEP-0004): reading a submitted form into fields and
 * building forms and results. Pure: trees in, trees out, arena-allocated.
 */
#ifndef PARLEY_XDATA_H
#define PARLEY_XDATA_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "xml.h"

#define NS_XDATA	"jabber:x:data"

/* a form may hold this many fields, a field this many values */
#define XDATA_FIELDS_MAX	64
#define XDATA_VALUES_MAX	256

struct xdata_field {
	const char	*var;
	const char	*type;		/* NULL when absent */
	const char	**values;	/* nvalues strings */
	size_t		 nvalues;
};

struct xdata {
	const char		*type;		/* form, submit, cancel, result */
	const char		*form_type;	/* the FORM_TYPE value, or NULL */
	struct xdata_field	*fields;	/* without FORM_TYPE */
	size_t			 nfields;
};

/*
 * Reads the form x (<x xmlns='jabber:x:data'>). -1 with *why set for a
 * form that breaks XEP-0004 3: no or an unknown type, a field without
 * var (in a submitted form), a var given twice, more than one value in
 * a single-valued field, past the limits above.
 */
int		 xdata_parse(struct arena *, const struct xnode *x,
		    struct xdata *, const char **why);
/* the field var, or NULL */
const struct xdata_field *xdata_field(const struct xdata *,
		    const char *var);
/* XEP-0004 3.3 boolean: 1 true, 0 false, -1 not a boolean */
int		 xdata_bool(const char *);

/* <x xmlns='jabber:x:data' type=type> with a hidden FORM_TYPE */
struct xnode	*xdata_new(struct arena *, struct xnode *parent,
		    const char *type, const char *form_type);
/* a field with its type (NULL: none), label (NULL: none), one value */
struct xnode	*xdata_add(struct arena *, struct xnode *x, const char *var,
		    const char *type, const char *label, const char *value);
/* a field the submitter must fill (XEP-0004 3.2 <required/>), no value */
struct xnode	*xdata_add_required(struct arena *, struct xnode *x,
		    const char *var, const char *type, const char *label);
/* one more <value> (list-multi, text-multi, jid-multi) */
void		 xdata_add_value(struct arena *, struct xnode *field,
		    const char *value);
/* an <option> of a list field */
void		 xdata_add_option(struct arena *, struct xnode *field,
		    const char *value);

#endif
