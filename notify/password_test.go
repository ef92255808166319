package notify_test

import (
	"strings"
	"testing"

	"github.com/notifyd/notifyd/notify"
)

// cheap keeps the tests fast; production uses DefaultPasswordParams.
var cheap = notify.PasswordParams{MemoryKiB: 1024, Time: 1, Threads: 1}

func TestPasswordHashRoundTrip(t *testing.T) {
	long := strings.Repeat("p", 100) // beyond bcrypt's 72 bytes
	hash, err := notify.HashPassword(long, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("unexpected hash format %q", hash)
	}
	if !notify.CheckPassword(long, hash, cheap) {
		t.Fatal("correct password refused")
	}
	// Differs only after byte 72: must be refused (bcrypt would accept it).
	if notify.CheckPassword(strings.Repeat("p", 99)+"q", hash, cheap) {
		t.Fatal("password differing after byte 72 accepted")
	}
	again, _ := notify.HashPassword(long, cheap)
	if again == hash {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestCheckPasswordMalformedHashes(t *testing.T) {
	for _, h := range []string{
		"", "plain", "$argon2id$v=19$m=1024,t=1,p=1$$",
		"$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$a2V5",
		"$argon2id$v=18$m=1024,t=1,p=1$c2FsdA$a2V5",
	} {
		if notify.CheckPassword("whatever", h, cheap) {
			t.Errorf("hash %q matched", h)
		}
	}
}
