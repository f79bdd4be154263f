// The README's example: mint a key with the local server's SuperUser key, save it as a token
// file, and refresh it from a second client.
//
//	go run . ./superuser.json 127.0.0.1:9090
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"momento-auth/momentoauth"
)

func main() {
	file, endpoint := os.Args[1], os.Args[2]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	local := []momentoauth.Option{momentoauth.WithEndpoint(endpoint), momentoauth.WithInsecure()} // omit for Momento itself

	admin, err := momentoauth.CredentialFromFile(file, local...)
	if err != nil {
		log.Fatal(err)
	}
	client, err := momentoauth.NewAuthClient(admin)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	r, err := client.GenerateApiKey(ctx, momentoauth.AllDataReadWrite, momentoauth.ExpiresInMinutes(30))
	if err != nil {
		var e *momentoauth.Error
		if errors.As(err, &e) {
			log.Fatalf("%s (retryable: %v)", e.Code, e.Retryable)
		}
		log.Fatal(err)
	}
	fmt.Println("minted", r) // redacted: ApiKeyResult(eyJl…#1a2b3c4d, expiresAt=…)
	if err := r.WriteFile("momento_token.json"); err != nil {
		log.Fatal(err)
	}

	cred, err := momentoauth.CredentialFromString(r.ApiKey, local...)
	if err != nil {
		log.Fatal(err)
	}
	user, err := momentoauth.NewAuthClient(cred)
	if err != nil {
		log.Fatal(err)
	}
	defer user.Close()
	r2, err := user.RefreshApiKey(ctx, r.RefreshToken)
	if errors.Is(err, momentoauth.ErrAuthentication) {
		log.Fatal("the refresh token was not accepted")
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println("refreshed, expires", r2.ExpiresAt.UTC().Format(time.RFC3339))
}
