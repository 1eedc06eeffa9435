package main

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

const record = `{"specversion":"1.0","id":"e1","source":"/services/portal-sync","type":"portal.case_status_changed",` +
	`"subject":"C-1","dataschema":%s,"data":{"case_id":"C-1","portal_status":"In Progress"}}`

func value(dataschema string) []byte { return []byte(strings.Replace(record, "%s", dataschema, 1)) }

func TestDecodeReadsCurrentAndLegacyRecords(t *testing.T) {
	for _, schema := range []string{schemaURI, legacySchema} {
		line, err := decode(&kgo.Record{Key: []byte("C-1"), Value: value(schema)})
		if err != nil || line != "C-1 In Progress" {
			t.Fatalf("%s: got %q, %v", schema, line, err)
		}
	}
}

func TestDecodeRefusesAnInvalidEnvelopeOrAKeyThatDiffers(t *testing.T) {
	if _, err := decode(&kgo.Record{Key: []byte("C-2"), Value: value(schemaURI)}); err == nil {
		t.Fatal("a key other than the case id was accepted")
	}
	if _, err := decode(&kgo.Record{Key: []byte("C-1"), Value: value(`"relative/1"`)}); err == nil {
		t.Fatal("a relative dataschema was accepted")
	}
}
