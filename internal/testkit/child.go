package testkit

import (
	"context"
	"os"
	"os/exec"
	"testing"
)

// childEnv names the child role a test binary is re-executed in.
const childEnv = "SEALOG_TEST_CHILD"

// Children maps role names to the functions that a re-executed test
// binary runs instead of its tests. A test package registers them in
// TestMain and calls RunChild first:
//
//	func TestMain(m *testing.M) {
//		testkit.RunChild(map[string]func(arg string){"writer": writer})
//		os.Exit(m.Run())
//	}
//
// RunChild returns at once in a normal test run; in a child it runs the
// role's function with the child's argument and exits.
func RunChild(roles map[string]func(arg string)) {
	role := os.Getenv(childEnv)
	if role == "" {
		return
	}
	fn, ok := roles[role]
	if !ok {
		os.Stderr.WriteString("testkit: unknown child role " + role + "\n")
		os.Exit(2)
	}
	fn(os.Getenv(childEnv + "_ARG"))
	os.Exit(0)
}

// Child returns a command that re-executes the test binary in role with
// arg, bound to ctx (killed when it ends). Its output goes to the test's
// log when the test fails.
func Child(ctx context.Context, t testing.TB, role, arg string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role, childEnv+"_ARG="+arg)
	return cmd
}
