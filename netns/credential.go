package netns

import (
	"fmt"
	"math"
)

// Credential is a user to run a command as: after entering the namespace
// and setting up every mount, Exec and Start switch to it (supplementary
// groups, then group, then user ids) and set no_new_privs. Start makes
// the switch in the child it forks (exec.Cmd's SysProcAttr.Credential,
// which must not be set as well), never on a thread of the caller.
//
// For a UID other than 0 the command keeps no capability and cannot regain
// any: besides the permitted and effective sets, which setresuid(2) clears,
// the bounding, inheritable and ambient sets are emptied, so not even a
// binary with file capabilities gets one back. Every descriptor from 3 on
// is closed when the command starts, unless ExecOptions.PreserveFDs keeps
// some.
//
// UID 0 keeps root's capabilities: only the group and the supplementary
// groups change (no_new_privs is still set, and descriptors are still
// closed). A command run as uid 0 owns every root-owned file whatever its
// capabilities, so dropping them would protect nothing.
//
// The id 4294967295 ((uid_t)-1) is refused for UID, GID and every group:
// setresuid(2) and setresgid(2) read it as "leave unchanged", which would
// keep root's.
type Credential struct {
	UID, GID uint32
	Groups   []uint32 // supplementary groups; nil means none
}

// unchangedID is (uid_t)-1, which the set*id calls take as "unchanged".
const unchangedID = math.MaxUint32

// check refuses a Credential that cannot be switched to as written.
func (c *Credential) check() error {
	if c.UID == unchangedID {
		return fmt.Errorf("credential: uid %d is reserved ((uid_t)-1 means \"unchanged\" to setresuid)", c.UID)
	}
	if c.GID == unchangedID {
		return fmt.Errorf("credential: gid %d is reserved ((gid_t)-1 means \"unchanged\" to setresgid)", c.GID)
	}
	for _, g := range c.Groups {
		if g == unchangedID {
			return fmt.Errorf("credential: group %d is reserved ((gid_t)-1 is no group)", g)
		}
	}
	return nil
}
