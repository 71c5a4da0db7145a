/*
 * The name and release of Parley, as the server reports them to software
 * version queries (XEP-0092). One place, so a release changes one line.
 */
#ifndef PARLEY_VERSION_H
#define PARLEY_VERSION_H

#define PARLEY_NAME	"Parley"
#define PARLEY_VERSION	"0.1.0"

#endif
