package netns

// Credential is a user to run a command as: after entering the namespace
// and setting up every mount, Exec and Start switch to it (supplementary
// groups, then group, then user ids) and set no_new_privs, so the command
// keeps no capability and cannot regain any.
type Credential struct {
	UID, GID uint32
	Groups   []uint32 // supplementary groups; nil means none
}
