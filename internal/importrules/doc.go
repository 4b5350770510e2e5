// Package importrules holds the module's import rules ([Rules]) and the
// checker that enforces them: [Scan] reads every Go file of the module
// (all build tags and platforms at once, test files included) and [Check]
// reports each import a rule forbids, naming the importing package, the
// file and the forbidden import. Its test runs the check on the module, so
// `go test ./...` fails when a rule breaks.
//
// To add a rule, add a line to [Rules].
package importrules
