// Command sttbench is the stt load generator. It runs one benchmark per
// subcommand:
//
//	sttbench datagram [flags]   raw UDP vs engine/conn vs engine datagram rates
//	sttbench -version           the version: module version, VCS revision, Go version
//
// Run `sttbench <command> -h` for the flags of a command. Other commands
// (handshake, stream) register themselves with registerCommand from their
// own files.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/sttgo/stt/cmd/internal/version"
)

// command is one sttbench subcommand.
type command struct {
	summary string
	// run parses args (without the command name) and writes its report to
	// stdout; a returned error is printed and the exit status is 1 (2 for
	// usage errors, see errUsage).
	run func(args []string, stdout io.Writer) error
}

var commands = map[string]command{}

// stdErr receives flag errors and usage text (a variable for tests).
var stdErr io.Writer = os.Stderr

// registerCommand adds a subcommand; call it from an init function.
func registerCommand(name, summary string, run func(args []string, stdout io.Writer) error) {
	if _, dup := commands[name]; dup {
		panic("sttbench: duplicate command " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sttbench <command> [flags]\n       sttbench -version\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	if args[0] == "-version" || args[0] == "--version" {
		if len(args) > 1 {
			fmt.Fprintf(stderr, "sttbench: -version takes no arguments\n")
			return 2
		}
		fmt.Fprintln(stdout, version.String("sttbench"))
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sttbench: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if err := c.run(args[1:], stdout); err != nil {
		fmt.Fprintf(stderr, "sttbench %s: %v\n", args[0], err)
		if isUsage(err) {
			return 2
		}
		return 1
	}
	return 0
}
