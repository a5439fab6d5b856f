// Package storeopen opens a sealog store by name, the way the sealog
// command names logs: a PostgreSQL URL, a SQLite URL, or a directory (the
// embedded file store).
//
//	postgres://user@host/db?schema=audit   store/postgres, schema audit
//	postgresql://…                         the same
//	sqlite:///var/lib/audit.db             store/sqlite, an absolute path
//	sqlite:audit.db                        store/sqlite, a relative path
//	/var/lib/audit, ./audit, audit         store/file, a directory
//
// Parse classifies a name without touching anything; Open opens it; Lines
// streams a store's stored lines, as untrusted bytes, for a verifier or
// an export.
//
// The package imports every backend and their drivers; the root package
// sealog does not import it, so that a program that needs only the
// embedded store links no SQL driver.
package storeopen
