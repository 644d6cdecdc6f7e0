module gomapcore/samples/bigcore

go 1.19
