module gomapcore/samples/mapcrash

go 1.19
