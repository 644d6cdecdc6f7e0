module crasher

go 1.19
