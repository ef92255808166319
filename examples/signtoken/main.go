// Command signtoken prints a notifyd token for the user of your app whose
// id is its argument: what your backend does when a page asks for one
// (the JS client's getToken). The secret is one of notifyd's
// auth.jwt.hmac_secrets, shared with your backend only.
//
//	NOTIFYD_JWT_SECRET=... go run ./examples/signtoken user-42
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: signtoken USER_ID")
		os.Exit(2)
	}
	now := time.Now()
	claims := jwt.RegisteredClaims{
		Subject:   os.Args[1], // your app's id of the signed-in user
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)), // short: the client refreshes it
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(os.Getenv("NOTIFYD_JWT_SECRET")))
	if err != nil {
		fmt.Fprintln(os.Stderr, "signtoken:", err)
		os.Exit(1)
	}
	fmt.Println(token)
}
