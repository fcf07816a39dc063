#!/usr/bin/env bash
# Publishes the seed documents' payloads (and a few bad inputs) to a running `npm start`.
# Needs mosquitto_pub (Debian/Ubuntu: apt-get install mosquitto-clients). Register the devices first:
#   npx driftwatch devices import examples/devices.json
set -euo pipefail
host=${MQTT_HOST:-127.0.0.1}
port=${MQTT_PORT:-1883}
pub() { mosquitto_pub -h "$host" -p "$port" -t "$1" -m "$2"; }

# Seed 003: medical device record with PHI (name, dob, patient_id) — de-identified on the way in.
pub 'LifeSupportDevice/Sensor' '{"timestamp":"2018-01-27T05:11:50","device_id":"device8401","patient_id":"patient2605","name":"Eugenia Gottlieb","dob":"08/27/1977","temperature":100.3,"pulse":108.6,"oxygen_percent":48.4,"systolic":110.2,"diastolic":75.6}'
# Seed 000: weather/<state>/<city>/<station_id>/<sensor_type>/<sensor_id>
pub 'weather/wa/seattle/vzqHb8vghO/vib/bQ7KcaMEas' '{"value":0.610802791886758,"direction":-1,"smoothed":0.9843152123890655,"timestamp":1472611226005}'
# Seed 001: the CPU fan (the seed's topic spelling)
pub 'IoT_TOPIC/recieve' '{"TIME":"2019-09-09T10:00:00.000000","FANID":"ABC123456","FREQ":25,"RPM":750}'
# Canonical
pub 'dt/plant-a/pump-7/telemetry' "{\"deviceId\":\"pump-7\",\"ts\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"metrics\":{\"pressure\":3.2,\"flow\":12.5}}"

# Bad inputs: each becomes one record under lake/errors/ with its reason.
pub 'dt/plant-a/pump-7/telemetry' '{"deviceId":"pump-7","ts":"2026-01-01T00:00:00Z","metrics":{"pressure":'   # malformed JSON
pub 'dt/plant-a/pump-7/telemetry' '{"deviceId":"pump-7","ts":"2026-01-01T00:00:00Z","metrics":{"pressure":"high"}}' # wrong type
pub 'IoT_TOPIC/recieve' '{"TIME":"2019-09-09T10:00:00","FREQ":25,"RPM":750}'                                         # no device id
pub 'IoT_TOPIC/recieve' '{"TIME":"2019-09-09T10:00:00","FANID":"not-registered","FREQ":25,"RPM":750}'               # unknown device
pub 'no/such/topic' '{"hello":"world"}'                                                                              # unknown topic
head -c 64 /dev/urandom | mosquitto_pub -h "$host" -p "$port" -t 'dt/plant-a/pump-7/telemetry' -s                   # binary garbage
echo "published 4 seed payloads and 6 bad inputs to $host:$port"
