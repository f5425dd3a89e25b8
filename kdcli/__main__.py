from kdcli.cli import main

if __name__ == "__main__":  # not when a fork server imports it as __mp_main__
    main()
