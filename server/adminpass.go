package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// argon2id parameters of new hashes (OWASP's first recommendation:
// 19 MiB, 2 passes, 1 lane).
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
	// maxPasswordBytes bounds what is hashed (bcrypt stops at 72 anyway).
	maxPasswordBytes = 1024
)

// errPasswordHash is the error of a hash this package cannot read.
var errPasswordHash = errors.New("server: admin password hash: want an argon2id ($argon2id$…) or bcrypt ($2a$/$2b$/$2y$…) hash")

// HashPassword returns the argon2id hash of password in the PHC string
// format ($argon2id$v=19$m=…,t=…,p=…$salt$hash) that
// server.admin.password_file holds.
func HashPassword(password []byte) (string, error) {
	if len(password) == 0 {
		return "", errors.New("server: hash password: the password is empty")
	}
	if len(password) > maxPasswordBytes {
		return "", fmt.Errorf("server: hash password: longer than %d bytes", maxPasswordBytes)
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("server: hash password: %w", err)
	}
	key := argon2.IDKey(password, salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// passwordHash is a parsed admin password hash.
type passwordHash struct {
	bcrypt []byte // a bcrypt hash, or nil for argon2id
	// argon2id
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// parsePasswordHash reads an argon2id or bcrypt hash. Its errors never
// quote the input.
func parsePasswordHash(s string) (*passwordHash, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		if _, err := bcrypt.Cost([]byte(s)); err != nil {
			return nil, errPasswordHash
		}
		return &passwordHash{bcrypt: []byte(s)}, nil
	case strings.HasPrefix(s, "$argon2id$"):
	default:
		return nil, errPasswordHash
	}
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(parts) != 6 {
		return nil, errPasswordHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return nil, errPasswordHash
	}
	h := &passwordHash{}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.time, &h.threads); err != nil ||
		h.memory < 8 || h.time < 1 || h.threads < 1 || h.memory > 4*1024*1024 {
		return nil, errPasswordHash
	}
	enc := base64.RawStdEncoding
	var err error
	if h.salt, err = enc.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return nil, errPasswordHash
	}
	if h.key, err = enc.DecodeString(parts[5]); err != nil || len(h.key) < 16 {
		return nil, errPasswordHash
	}
	return h, nil
}

// matches reports whether password is the one hashed, in constant time.
func (h *passwordHash) matches(password []byte) bool {
	if len(password) == 0 || len(password) > maxPasswordBytes {
		return false
	}
	if h.bcrypt != nil {
		return bcrypt.CompareHashAndPassword(h.bcrypt, password) == nil
	}
	key := argon2.IDKey(password, h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1
}
