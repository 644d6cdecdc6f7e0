module deadlock

go 1.19
