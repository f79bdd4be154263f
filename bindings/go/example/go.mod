module example.com/momento-auth-example

go 1.22

require momento-auth/momentoauth v0.0.0

replace momento-auth/momentoauth => ../
