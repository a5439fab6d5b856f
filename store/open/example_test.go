package storeopen_test

import (
	"fmt"

	storeopen "github.com/sealog/sealog/store/open"
)

// What a name given on the command line opens.
func ExampleParse() {
	for _, name := range []string{
		"postgres://sealog:s3cret@db.example/prod?schema=audit",
		"sqlite:///var/lib/sealog/audit.db",
		"/var/lib/sealog/audit",
	} {
		loc, err := storeopen.Parse(name)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(loc.Kind, loc)
	}
	// Output:
	// postgres postgres://sealog:xxxxx@db.example/prod?schema=audit
	// sqlite sqlite:///var/lib/sealog/audit.db
	// file /var/lib/sealog/audit
}
