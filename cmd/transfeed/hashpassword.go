package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/transfeed/transfeed/server"
)

// maxPasswordLine bounds the line hash-password reads.
const maxPasswordLine = 4096

// cmdHashPassword reads one password (the first line of stdin, without its
// line ending) and prints its argon2id hash, the content of the file named
// by server.admin.password_file. The password itself is never printed.
func cmdHashPassword(stdin io.Reader, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hash-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: transfeed hash-password < password.txt > admin.hash")
		fmt.Fprintln(stderr, "Reads a password on stdin and prints its argon2id hash for server.admin.password_file.")
	}
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitInvalid
	}
	pw, err := readPasswordLine(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "transfeed: hash-password: %v\n", err)
		return exitInvalid
	}
	h, err := server.HashPassword([]byte(pw))
	if err != nil {
		fmt.Fprintf(stderr, "transfeed: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, h)
	return exitOK
}

func readPasswordLine(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxPasswordLine+1), maxPasswordLine+1)
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	if len(line) > maxPasswordLine {
		return "", fmt.Errorf("the password is longer than %d bytes", maxPasswordLine)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password on stdin (give it as the first line)")
	}
	return line, nil
}
