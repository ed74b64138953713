package uplink

// SetTestHook sets the function Connect calls after each journalled
// change, with the kind of the step ("veth", "table", "iptables",
// "sysctl").
func SetTestHook(f func(kind string)) { testHook = f }
