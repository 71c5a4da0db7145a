/*
 * Data forms (XEP-0004). A submitted form is read strictly: whatever
 * XEP-0004 3 forbids is refused with the reason, so that the protocol
 * that carries the form can answer bad-request or not-acceptable.
 */
#include <string.h>

#include "xdata.h"

static bool
xdata_type_ok(const char *type)
{
	return strcmp(type, "form") == 0 || strcmp(type, "submit") == 0 ||
	    strcmp(type, "cancel") == 0 || strcmp(type, "result") == 0;
}

/* XEP-0004 3.3: the types whose fields have at most one value */
static bool
xdata_single(const char *type)
{
	return type == NULL || (strcmp(type, "list-multi") != 0 &&
	    strcmp(type, "jid-multi") != 0 && strcmp(type, "text-multi") != 0 &&
	    strcmp(type, "fixed") != 0);
}

static int
xdata_read_field(struct arena *a, const struct xnode *f,
    struct xdata_field *fd, const char **why)
{
	const struct xnode	*v;
	size_t			 n = 0;

	fd->var = xnode_attr(f, "var");
	fd->type = xnode_attr(f, "type");
	for (v = xnode_child(f, NS_XDATA, "value"); v != NULL;
	    v = xnode_next(v, NS_XDATA, "value"))
		n++;
	if (n > XDATA_VALUES_MAX) {
		*why = "too many values";
		return -1;
	}
	if (n > 1 && xdata_single(fd->type)) {
		*why = "several values in a single-valued field";
		return -1;
	}
	fd->values = arena_alloc(a, (n + 1) * sizeof(*fd->values));
	fd->nvalues = 0;
	for (v = xnode_child(f, NS_XDATA, "value"); v != NULL;
	    v = xnode_next(v, NS_XDATA, "value"))
		fd->values[fd->nvalues++] = xnode_text(a, v);
	return 0;
}

int
xdata_parse(struct arena *a, const struct xnode *x, struct xdata *d,
    const char **why)
{
	const struct xnode	*f;
	struct xdata_field	 fd;
	size_t			 i, n = 0;

	memset(d, 0, sizeof(*d));
	if (x == NULL || strcmp(x->ns, NS_XDATA) != 0 ||
	    strcmp(x->name, "x") != 0) {
		*why = "not a data form";
		return -1;
	}
	if ((d->type = xnode_attr(x, "type")) == NULL ||
	    !xdata_type_ok(d->type)) {
		*why = "form type missing or unknown";
		return -1;
	}
	for (f = xnode_child(x, NS_XDATA, "field"); f != NULL;
	    f = xnode_next(f, NS_XDATA, "field"))
		n++;
	if (n > XDATA_FIELDS_MAX) {
		*why = "too many fields";
		return -1;
	}
	d->fields = arena_alloc(a, (n + 1) * sizeof(*d->fields));
	for (f = xnode_child(x, NS_XDATA, "field"); f != NULL;
	    f = xnode_next(f, NS_XDATA, "field")) {
		if (xdata_read_field(a, f, &fd, why) == -1)
			return -1;
		if (fd.var == NULL) {
			if (strcmp(d->type, "submit") == 0) {
				*why = "a field without var";
				return -1;
			}
			continue;	/* fixed text in a form or result */
		}
		if (strcmp(fd.var, "FORM_TYPE") == 0) {
			if (d->form_type != NULL || fd.nvalues != 1) {
				*why = "FORM_TYPE given twice or empty";
				return -1;
			}
			d->form_type = fd.values[0];
			continue;
		}
		for (i = 0; i < d->nfields; i++)
			if (strcmp(d->fields[i].var, fd.var) == 0) {
				*why = "a field given twice";
				return -1;
			}
		d->fields[d->nfields++] = fd;
	}
	return 0;
}

const struct xdata_field *
xdata_field(const struct xdata *d, const char *var)
{
	size_t	i;

	for (i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].var, var) == 0)
			return &d->fields[i];
	return NULL;
}

int
xdata_bool(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0)
		return 1;
	if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0)
		return 0;
	return -1;
}

struct xnode *
xdata_new(struct arena *a, struct xnode *parent, const char *type,
    const char *form_type)
{
	struct xnode	*x;

	x = parent != NULL ? xnode_add(a, parent, NS_XDATA, "x") :
	    xnode_new(a, NS_XDATA, "x");
	xnode_set_attr(a, x, "type", type);
	if (form_type != NULL)
		xdata_add(a, x, "FORM_TYPE", "hidden", NULL, form_type);
	return x;
}

struct xnode *
xdata_add(struct arena *a, struct xnode *x, const char *var,
    const char *type, const char *label, const char *value)
{
	struct xnode	*f;

	f = xnode_add(a, x, NS_XDATA, "field");
	xnode_set_attr(a, f, "var", var);
	if (type != NULL)
		xnode_set_attr(a, f, "type", type);
	if (label != NULL)
		xnode_set_attr(a, f, "label", label);
	if (value != NULL)
		xdata_add_value(a, f, value);
	return f;
}

struct xnode *
xdata_add_required(struct arena *a, struct xnode *x, const char *var,
    const char *type, const char *label)
{
	struct xnode	*f = xdata_add(a, x, var, type, label, NULL);

	(void)xnode_add(a, f, NS_XDATA, "required");
	return f;
}

void
xdata_add_value(struct arena *a, struct xnode *f, const char *value)
{
	struct xnode	*v;

	v = xnode_add(a, f, NS_XDATA, "value");
	xnode_add_text(a, v, value, strlen(value));
}

void
xdata_add_option(struct arena *a, struct xnode *f, const char *value)
{
	struct xnode	*o;

	o = xnode_add(a, f, NS_XDATA, "option");
	xdata_add_value(a, o, value);
}
