// Package postgres is a sealog store in PostgreSQL: one log per schema,
// shared by any number of writers, in one process or many. Each append is
// one transaction conditional on the head row's size; the writers take
// turns through a writer lease (an advisory lock, lease.go) rather than
// race for that row. See README.md for the schema and the life of an
// append.
package postgres
