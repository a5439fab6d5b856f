// Package postgres is a sealog store in PostgreSQL: one log per schema,
// shared by any number of writers, in one process or many. See README.md
// for the schema.
package postgres
