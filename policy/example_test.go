package policy_test

import (
	"fmt"

	"github.com/sealog/sealog/policy"
)

func ExampleParse() {
	p, err := policy.Parse([]byte(`
log example.com/audit+e5513d7d+ATa4uxTcmdZ6xCgs6ndb7Flxzg0K96Mt9SSrgr0X3fD4

witness W1 w1.example+4140d3ca+BM7MFQfcHd1ylZUcKQiI8JWtuQRNG3PWlubfBl1oO9T8 https://w1.example/
witness W2 w2.example+e824bbd1+BGt5xX5qCVI5KCwEgY6WES8/A6QAG6l6VkwjhSo/HqX8
group both all W1 W2
quorum both
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(p.Logs), "log,", len(p.Witnesses), "witnesses, quorum", p.Quorum.Name, p.Quorum.Threshold, "of", len(p.Quorum.Members))
	// Output: 1 log, 2 witnesses, quorum both 2 of 2
}
