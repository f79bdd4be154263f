module momento-auth/momentoauth

go 1.22
