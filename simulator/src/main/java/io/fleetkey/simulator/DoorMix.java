package io.fleetkey.simulator;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.fleetkey.simulator.report.Door;

/**
 * How a run shares its devices among the doors, e.g. {@code https=2,coap=1,mqtt=1}: by weight,
 * interleaved (smooth weighted round robin), so every stretch of the fleet uses every door in
 * the same proportion and a ramp reaches all doors from its first second.
 */
record DoorMix(Map<Door, Integer> weights) {
    DoorMix {
        weights = Map.copyOf(weights);
        if (weights.isEmpty() || weights.values().stream().anyMatch(w -> w <= 0)) {
            throw new IllegalArgumentException("a door mix needs at least one door with a positive weight");
        }
    }

    /** {@code https}, {@code coap=1,mqtt=3}: door names (https, coap, mqtt) with optional weights (1 if left out). */
    static DoorMix parse(String text) {
        Map<Door, Integer> weights = new EnumMap<>(Door.class);
        for (String part : text.split(",")) {
            String[] nameAndWeight = part.trim().split("=", 2);
            Door door = switch (nameAndWeight[0].trim().toLowerCase(Locale.ROOT)) {
                case "https" -> Door.HTTPS;
                case "coap", "coaps" -> Door.COAP;
                case "mqtt", "mqtts" -> Door.MQTT;
                default -> throw new IllegalArgumentException("unknown door '" + nameAndWeight[0].trim()
                        + "'; use https, coap or mqtt");
            };
            int weight;
            try {
                weight = nameAndWeight.length == 1 ? 1 : Integer.parseInt(nameAndWeight[1].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("the weight of " + door.label() + " is not a whole number: '"
                        + nameAndWeight[1].trim() + "'");
            }
            if (weight <= 0 || weight > 1000) {
                throw new IllegalArgumentException("the weight of " + door.label() + " must be 1 to 1000, not " + weight);
            }
            if (weights.put(door, weight) != null) {
                throw new IllegalArgumentException(door.label() + " is named twice");
            }
        }
        return new DoorMix(weights);
    }

    /** The door of each of n devices, in order. */
    List<Door> assign(int n) {
        List<Door> doors = new ArrayList<>(weights.keySet());
        doors.sort(null);
        int total = weights.values().stream().mapToInt(Integer::intValue).sum();
        Map<Door, Integer> credit = new EnumMap<>(Door.class);
        List<Door> assigned = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Door best = null;
            for (Door door : doors) {
                int c = credit.merge(door, weights.get(door), Integer::sum);
                if (best == null || c > credit.get(best)) {
                    best = door;
                }
            }
            credit.merge(best, -total, Integer::sum);
            assigned.add(best);
        }
        return assigned;
    }

    /** {@code HTTPS 2, CoAP 1}: for the report. */
    String describe() {
        List<String> parts = new ArrayList<>();
        weights.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> parts.add(e.getKey().label() + " " + e.getValue()));
        return String.join(", ", parts);
    }
}
