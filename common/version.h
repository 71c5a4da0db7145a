/*
 * The name and release of Parley, as the server reports them to software
 * version queries (XEP-0092). One place, so a release changes one line.
 */
#ifndef PARLEY_VERSION_H
#define PARLEY_VERSION_H

#define PARLEY_NAME	"Parley"
#define PARLEY_VERSION	"0.1.0"
/* the software's node in the server's entity capabilities (XEP-0115) */
#define PARLEY_CAPS_NODE "https://parley.example/caps"

#endif
