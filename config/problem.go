package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a configuration file, located by file and line.
type Problem struct {
	File string
	Line int // 1-based; 0 when the problem has no single place (the file as a whole)
	Msg  string
}

// String formats the problem as "file:line: msg", the form editors and CI
// annotations understand. Without a line it is "file: msg".
func (p Problem) String() string {
	if p.Line <= 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
}

// ValidationError is returned by Load and Parse when the configuration is
// invalid. It carries every problem found, sorted by line; test for it with
// errors.As.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems, one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
