package com.mailrelay.message;

/**
 * Thrown by a unit of group-committed work that refuses before it has written anything (or after
 * undoing what it wrote): the rest of its batch commits without it, and its caller gets this.
 */
public abstract class RefusedWork extends Refusal {

    protected RefusedWork(String message) {
        super(message);
    }
}
