/* Compile-time sizes shared by the config loader and the stages. */
#ifndef TXG_BOUNDS_H
#define TXG_BOUNDS_H

#define TXG_MAX_PORTS 8
#define TXG_MAX_WORKERS 16
#define TXG_MAX_QUEUES_PER_WORKER 16
#define TXG_MAX_ADDRS 8 /* per address family in [net] */

#endif
