package io.fleetkey.simulator;

public final class SimulatorCli {
    public static void main(String[] args) {
    }
}
