// PostgreSQL's client library, libpq, as the system provides it (Debian: libpq-dev).
// Only PostgresStore imports it: connections, parameterized statements with binary parameters and results.
#ifndef CLIBPQ_SHIM_H
#define CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
