package main

import (
	"os"
	"testing"
)

// envAsMain makes the test binary behave as sttbench itself: the path test
// runs it, as bridge, server and client, inside network namespaces.
const envAsMain = "STTBENCH_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envAsMain) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
