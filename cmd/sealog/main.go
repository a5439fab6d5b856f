// Command sealog records, inspects, proves and verifies sealog audit logs,
// and verifies logs written by Spine, spanforge and immutable-logging.
//
// Usage:
//
//	sealog <command> [arguments]
//
// Run "sealog help" for the list of commands and "sealog <command> -h"
// for one command's usage. docs/CLI.md repeats every usage text, with
// examples, the exit codes and the JSON output shapes.
//
// Exit codes: 0 success (the log or bundle is valid), 1 verification
// failed, 2 usage error, 3 I/O or format error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Exit codes, documented in docs/CLI.md.
const (
	exitOK     = 0 // success; the log, bundle or proof is valid
	exitFailed = 1 // verification failed: tampered, invalid bundle, wrong key
	exitUsage  = 2 // unknown command or flag, missing argument, bad flag value
	exitIO     = 3 // I/O or format error: missing file, not a log, bad input
)

// command is one subcommand: its name, its one-line summary for the
// overview, its usage text (printed by -h, repeated in docs/CLI.md) and
// what it runs.
type command struct {
	name    string
	summary string
	usage   string
	run     func(e *env, args []string) error
}

// commands lists the subcommands in the order the overview shows them.
var commands []*command

func init() {
	commands = []*command{
		keygenCmd, initCmd, appendCmd, verifyCmd, verifyReportCmd, showCmd, queryCmd, tailCmd,
		infoCmd, checkpointCmd, proveCmd, verifyProofCmd, exportCmd, verifyBundleCmd, exportDirCmd, migrateCmd,
		eraseCmd, importCmd, pruneCmd, serveCmd, witnessCmd, tokenCmd, keyCmd, auditCmd, benchCmd, demoCmd, versionCmd,
	}
}

// env is what a command runs with: its streams, environment and context.
// Tests build one to run commands in-process.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// stderrTTY says stderr is a terminal (progress bars are shown only
	// then).
	stderrTTY bool
}

// signalGrace is how long a command may take to stop after an interrupt
// (serve drains its appends within it).
const signalGrace = 30 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C or SIGTERM asks the command to stop cleanly; a
	// second one kills the process as usual, and so does the end of a
	// grace period (a read blocked on a FIFO given as an input, say, does
	// not see the context).
	go func() {
		<-ctx.Done()
		stop()
		time.Sleep(signalGrace)
		fmt.Fprintf(os.Stderr, "sealog: error: still running %s after the interrupt; exiting\n", signalGrace)
		os.Exit(exitIO)
	}()
	e := &env{ctx: ctx, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, stderrTTY: isTerminal(os.Stderr)}
	code := run(e, os.Args[1:])
	stop()
	os.Exit(code)
}

// run runs the command line args and returns the exit code.
func run(e *env, args []string) int {
	if len(args) == 0 {
		writeOverview(e.stdout)
		return exitOK
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				fmt.Fprint(e.stdout, c.usage)
				return exitOK
			}
			return report(e, usageError("help: unknown command %q", args[1]).withHint("run 'sealog help' for the list of commands"))
		}
		writeOverview(e.stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	c := lookup(name)
	if c == nil {
		return report(e, usageError("unknown command %q", name).withHint("run 'sealog help' for the list of commands"))
	}
	return report(e, c.run(e, args[1:]))
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func writeOverview(w io.Writer) {
	var b strings.Builder
	b.WriteString(overviewHead)
	for _, c := range commands {
		fmt.Fprintf(&b, "    %-14s %s\n", c.name, c.summary)
	}
	b.WriteString(overviewTail)
	io.WriteString(w, b.String())
}

const overviewHead = `sealog is a tamper-evident audit log: record events, prove them, verify the log.

Usage:
    sealog <command> [arguments]

Commands:
`

const overviewTail = `
Where a command takes a log (DIR), it may also name a database:
postgres://USER@HOST/DB?schema=S (PostgreSQL) or sqlite:///PATH (SQLite).

Run 'sealog <command> -h' for a command's usage, or 'sealog demo' for a tour.

Exit codes: 0 valid / success, 1 verification failed, 2 usage error,
3 I/O or format error.
`

// cliError is an error with an exit code and an optional hint.
type cliError struct {
	code int
	msg  string // empty: nothing more to print (a report already said it)
	hint string
}

func (e *cliError) Error() string { return e.msg }

func (e *cliError) withHint(format string, args ...any) *cliError {
	e.hint = fmt.Sprintf(format, args...)
	return e
}

// usageError is a usage error (exit 2).
func usageError(format string, args ...any) *cliError {
	return &cliError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// ioError is an I/O or format error (exit 3).
func ioError(format string, args ...any) *cliError {
	return &cliError{code: exitIO, msg: fmt.Sprintf(format, args...)}
}

// failError is a verification failure (exit 1).
func failError(format string, args ...any) *cliError {
	return &cliError{code: exitFailed, msg: fmt.Sprintf(format, args...)}
}

// errFailedQuiet ends a command with exit 1 after its report said why.
var errFailedQuiet = &cliError{code: exitFailed}

// report prints err on stderr and returns its exit code.
func report(e *env, err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	var ce *cliError
	if !errors.As(err, &ce) {
		ce = &cliError{code: exitIO, msg: err.Error()}
	}
	if ce.msg != "" {
		fmt.Fprintf(e.stderr, "sealog: error: %s\n", ce.msg)
	}
	if ce.hint != "" {
		fmt.Fprintf(e.stderr, "hint: %s\n", ce.hint)
	}
	return ce.code
}
