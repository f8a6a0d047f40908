package io.fleetkey.agent;

public final class AgentCli {
    public static void main(String[] args) {
    }
}
