// Command portal-consumer reads the compacted portal.case-status topic of the case backbone and prints
// "case_id portal_status" for every record, from the beginning of the topic.
//
// It is an example for integrators: it relies on nothing but the published contract (docs/contract.md,
// docs/asyncapi/portal-sync.yaml, docs/schemas/portal.case_status_changed.json). Each record value is one
// CloudEvents 1.0 envelope in structured JSON mode, decoded and validated by the CloudEvents Go SDK; the
// Kafka key is the case id. Being compacted, the topic keeps at least the latest record of every case, so
// the last line printed for a case is its current portal status.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// PortalCaseStatus is the part of the record's data this consumer uses (the record has more fields).
type PortalCaseStatus struct {
	CaseID       string `json:"case_id"`
	AccountID    string `json:"account_id"`
	PortalType   string `json:"portal_type"`
	PortalStatus string `json:"portal_status"`
	Version      int    `json:"version"`
}

func main() {
	brokers := flag.String("brokers", env("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"), "comma-separated bootstrap servers")
	topic := flag.String("topic", env("PORTAL_TOPIC", "portal.case-status"), "the portal.case-status topic")
	idle := flag.Duration("idle", 0, "once a record was read, exit after this long without another (0: run until killed)")
	flag.Parse()

	opts := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		kgo.ConsumeTopics(*topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}
	if user := os.Getenv("KAFKA_SASL_USERNAME"); user != "" { // the backbone's brokers use SASL/SCRAM-SHA-512
		auth := scram.Auth{User: user, Pass: os.Getenv("KAFKA_SASL_PASSWORD")}
		opts = append(opts, kgo.SASL(auth.AsSha512Mechanism()))
	}
	client, err := kgo.NewClient(opts...)
	if err != nil {
		fail("kafka client: %v", err)
	}
	defer client.Close()

	seen := false // the idle timeout starts with the first record: connecting may take longer than it
	for {
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if *idle > 0 && seen {
			ctx, cancel = context.WithTimeout(ctx, *idle)
		}
		fetches := client.PollFetches(ctx)
		cancel()
		if seen && fetches.NumRecords() == 0 && ctx.Err() != nil {
			return // nothing new for `idle`: caught up
		}
		seen = seen || fetches.NumRecords() > 0
		fetches.EachError(func(t string, p int32, err error) {
			if err != context.DeadlineExceeded {
				fail("fetch %s[%d]: %v", t, p, err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			if line, err := decode(r); err != nil {
				fmt.Fprintf(os.Stderr, "skipped %s[%d]@%d: %v\n", r.Topic, r.Partition, r.Offset, err)
			} else {
				fmt.Println(line)
			}
		})
	}
}

// Records published before dataschema became a URI carry this value, which the SDK refuses (not absolute);
// on a compacted topic they stay until their case changes, so they are read as the URI that replaced it.
const legacySchema, schemaURI = `"case-backbone/1"`, `"urn:case-backbone:schema:portal.case_status_changed:1"`

func upgraded(value []byte) []byte {
	var fields map[string]json.RawMessage
	if json.Unmarshal(value, &fields) != nil || string(fields["dataschema"]) != legacySchema {
		return value
	}
	fields["dataschema"] = json.RawMessage(schemaURI)
	if out, err := json.Marshal(fields); err == nil {
		return out
	}
	return value
}

// decode reads one record: a valid CloudEvent whose data is a portal case status keyed by its case id.
func decode(r *kgo.Record) (string, error) {
	event := cloudevents.New()
	if err := json.Unmarshal(upgraded(r.Value), &event); err != nil { // Unmarshal validates the envelope too
		return "", fmt.Errorf("not a CloudEvent: %w", err)
	}
	if err := event.Validate(); err != nil {
		return "", fmt.Errorf("invalid CloudEvent: %w", err)
	}
	var status PortalCaseStatus
	if err := event.DataAs(&status); err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	if status.CaseID == "" || status.CaseID != string(r.Key) || status.CaseID != event.Subject() {
		return "", fmt.Errorf("case id %q, key %q and subject %q differ", status.CaseID, r.Key, event.Subject())
	}
	return status.CaseID + " " + status.PortalStatus, nil
}

func env(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
