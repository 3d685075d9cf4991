using Mmae.Tests.Train;
using Xunit;

namespace Mmae.Tests;

/// <summary>Checks of the house style that a compiler does not make.</summary>
public class StyleTests
{
    // STYLE.md: aim for 100 columns, never over 120.
    private const int MaxLineWidth = 120;

    [Fact]
    public void SourceFiles_NoLineOver120Columns()
    {
        string root = TrainTestSupport.RepoRoot();
        var offenders = new List<string>();
        foreach (string file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(root, file);
            if (rel.Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj"))
            {
                continue;
            }

            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                if (lines[i].Length > MaxLineWidth)
                {
                    offenders.Add($"{rel}:{i + 1} ({lines[i].Length} columns)");
                }
            }
        }

        Assert.True(offenders.Count == 0, "lines over 120 columns:\n" + string.Join("\n", offenders));
    }
}
