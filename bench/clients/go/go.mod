module momento-auth/bench

go 1.22

require (
	github.com/momentohq/client-sdk-go v1.38.0
	google.golang.org/grpc v1.63.0
)

require (
	github.com/golang-jwt/jwt/v4 v4.5.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	golang.org/x/net v0.23.0 // indirect
	golang.org/x/sys v0.18.0 // indirect
	golang.org/x/text v0.14.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20240227224415-6ceb2ff114de // indirect
	google.golang.org/protobuf v1.33.0 // indirect
)

require momento-auth/momentoauth v0.0.0

replace momento-auth/momentoauth => ../../../bindings/go
