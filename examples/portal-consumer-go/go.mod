module github.com/case-backbone/examples/portal-consumer-go

go 1.26.0

require (
	github.com/cloudevents/sdk-go/v2 v2.16.2
	github.com/twmb/franz-go v1.22.3
)

require (
	github.com/json-iterator/go v1.1.12 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/modern-go/concurrent v0.0.0-20180306012644-bacd9c7ef1dd // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/twmb/franz-go/pkg/kmsg v1.15.1 // indirect
)
