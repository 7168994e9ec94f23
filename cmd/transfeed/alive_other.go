//go:build !unix

package main

// processAlive cannot tell here: every process counts as alive, so claims
// wait out their lease as before.
func processAlive(int) bool { return true }
