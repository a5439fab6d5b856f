package main

import (
	"github.com/sealog/sealog"
	"github.com/sealog/sealog/keys/sshagent"
)

// agentPrefix marks a --key that names a key held in an ssh-agent by its
// fingerprint ("ssh-agent:SHA256:…"; "ssh-agent:" for the agent's only
// Ed25519 key), so that the private key never sits in a file.
const agentPrefix = "ssh-agent:"

// loadAgentKey returns the log key for origin held in the agent at
// $SSH_AUTH_SOCK.
func loadAgentKey(e *env, c *command, fingerprint, origin string) (*sealog.Key, error) {
	if origin == "" {
		return nil, usageError("%s: a key in the ssh-agent needs the log's origin, which is not known here", c.name).
			withHint("create the log with a key file, then 'sealog key rotate DIR --key FILE --new ssh-agent:FINGERPRINT'")
	}
	k, err := sshagent.Key(e.getenv("SSH_AUTH_SOCK"), fingerprint, origin)
	if err != nil {
		return nil, ioError("%v", err).withHint("list the agent's keys with 'ssh-add -l'; add one with 'ssh-add FILE'")
	}
	return k, nil
}
