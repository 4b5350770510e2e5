// Package fuzzdata is the tooling the harnesses under fuzz/ share: a
// [Reader] that turns fuzz input into the operands of a program (reading
// past the end yields zeros, so every input is a valid program), and
// [CheckSeeds], which keeps the checked-in seed corpus of a target equal to
// the seeds its package generates.
package fuzzdata
