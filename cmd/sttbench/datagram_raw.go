package main

import "errors"

// errRawUnsupported is returned by mode "raw" where recvmmsg/sendmmsg do not
// exist (every system but Linux).
var errRawUnsupported = errors.New("sttbench: raw mode needs Linux (recvmmsg/sendmmsg)")
