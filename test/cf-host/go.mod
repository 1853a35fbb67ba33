module cf-host

go 1.19
