package identity

import "crypto/rand"

var randReader = rand.Reader
