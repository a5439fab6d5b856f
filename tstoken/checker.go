package tstoken

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/sealog/sealog/verify"
)

// Checker checks the timestamps of a log for package verify
// (verify.Options.Timestamps): with Roots, every token's signer must
// chain to one of them (Verify); without, each token is only checked to
// cover its checkpoint (Parse).
type Checker struct {
	Roots []*x509.Certificate
}

var _ verify.TimestampChecker = Checker{}

// CheckTimestamp implements verify.TimestampChecker.
func (c Checker) CheckTimestamp(tsr, message []byte) (verify.TimestampCheck, error) {
	st, err := Parse(tsr, message)
	if errors.Is(err, ErrImprint) {
		return verify.TimestampCheck{}, fmt.Errorf("%w", verify.ErrTimestampImprint)
	}
	if err != nil {
		return verify.TimestampCheck{}, err
	}
	tc := verify.TimestampCheck{Time: st.Time, TSA: st.TSA, Signer: verify.SignerUnchecked}
	if len(c.Roots) == 0 {
		return tc, nil
	}
	if _, err := Verify(tsr, message, c.Roots); err != nil {
		tc.Signer, tc.Problem = verify.SignerUntrusted, err.Error()
		return tc, nil
	}
	tc.Signer = verify.SignerTrusted
	return tc, nil
}
